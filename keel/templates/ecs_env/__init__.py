"""ecs-env: vpc-env's network plus an ECS cluster for Fargate and ECS Anywhere, with control-plane monitoring."""
