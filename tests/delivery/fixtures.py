"""Hand-written templates and assemblies: each change is visible in a few lines."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

HASH_A = "a" * 64
HASH_B = "b" * 64


def base_template() -> dict[str, Any]:
    return {
        "Resources": {
            "Vpc8378EB38": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
            "VpcSubnetA": {"Type": "AWS::EC2::Subnet", "Properties": {
                "VpcId": {"Ref": "Vpc8378EB38"}, "CidrBlock": "10.0.0.0/24", "AvailabilityZone": "eu-west-1a"}},
            "DataBucketE3889A50": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "shop-data"},
                                   "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"},
            "AppLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30},
                        "DeletionPolicy": "Delete"},
            "Fn9270CBC0": {"Type": "AWS::Lambda::Function", "Properties": {
                "Code": {"S3Bucket": "assets", "S3Key": f"{HASH_A}.zip"}, "Runtime": "python3.13",
                "Handler": "handler.handler", "Role": {"Fn::GetAtt": ["FnRole", "Arn"]}},
                "Metadata": {"aws:cdk:path": "keel-dev/Fn/Resource", "aws:asset:path": f"asset.{HASH_A}"}},
            "FnRole": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                            "Principal": {"Service": "lambda.amazonaws.com"}}]},
                "Policies": [{"PolicyName": "data", "PolicyDocument": {"Statement": [
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shop-data/*"}]}}]}},
            "AppSg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
                "GroupDescription": "app", "VpcId": {"Ref": "Vpc8378EB38"},
                "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                          "CidrIp": "10.0.0.0/16"}]}},
            "Settings": {"Type": "Custom::Settings", "Properties": {"ServiceToken": "arn:x", "Level": 1}},
        },
        "Outputs": {"BucketName": {"Value": {"Ref": "DataBucketE3889A50"}}},
    }


def changed(edit: Any) -> dict[str, Any]:
    """A copy of the base template with `edit(resources)` applied."""
    template = copy.deepcopy(base_template())
    edit(template["Resources"])
    return template


def write_assembly(outdir: Path, stacks: dict[str, dict[str, Any]]) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    artifacts = {}
    for name, template in stacks.items():
        (outdir / f"{name}.template.json").write_text(json.dumps(template))
        artifacts[name] = {"type": "aws:cloudformation:stack", "environment": "aws://111111111111/eu-west-1",
                           "properties": {"templateFile": f"{name}.template.json", "stackName": name}}
    (outdir / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": artifacts}))
    return outdir
