"""What a platform engineer meets first: every problem named once, clean exits, docs that match the code."""

from __future__ import annotations

from tests.spec.conftest import Platform


def test_every_unknown_key_of_one_mapping_is_reported(platform: Platform) -> None:
    lines = platform.problems("""
        environments:
          - name: dev
            template: vpc-env:1
            spec: {vpc_cidrr: 10.0.0.0/16, natgw: 1, zzz: 2}
    """)
    assert [line.split(": ")[0] for line in lines] == [
        "platform.yaml:environments[dev].spec.natgw",
        "platform.yaml:environments[dev].spec.vpc_cidrr",
        "platform.yaml:environments[dev].spec.zzz",
    ]


def test_every_missing_required_key_is_named_once(platform: Platform) -> None:
    lines = platform.problems("""
        environments:
          - {}
    """)
    assert lines == [
        "platform.yaml:environments[0].name: required input is missing (expected a string)",
        "platform.yaml:environments[0].template: required input is missing (expected a string)",
    ]


def test_every_unknown_key_of_the_platform_file_is_reported(platform: Platform) -> None:
    lines = platform.problems("""
        environments:
          - {name: dev, template: vpc-env:1, tempalte: x, regoin: y}
    """)
    assert [line.split(": ")[0] for line in lines] == [
        "platform.yaml:environments[dev].regoin",
        "platform.yaml:environments[dev].tempalte",
    ]

