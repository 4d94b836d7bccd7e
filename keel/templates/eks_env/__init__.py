"""eks-env: an EKS cluster on the vpc-env network, ready for EKS Hybrid Nodes and EKS Anywhere."""
