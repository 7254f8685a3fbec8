# The stack `pilot up-server --provider aws` makes (src/providers/aws/provider.ts),
# written the way a Terraform user would, for `npm run bench -- terraform`
# (bench/terraform.ts). Same resources, CIDRs, names, tags, rules and
# settings, node for node; where Terraform needs more than one resource for a
# Pilot node (route table + its two associations, role + inline policy) all
# are here.
# Deliberate differences, each also noted where it is made:
#   - the database's deletion_protection is false (Pilot: true, lifted by
#     `pilot teardown` after its prompt): with true, `terraform destroy` fails
#     until the config is changed and applied;
#   - Pilot's two drift tags (pilot:public-key-sha256 on the key pair,
#     pilot:policy-sha256 on the role) are left out: Terraform keeps what it
#     last wrote in its state file instead;
#   - the server's network interface is not tagged (aws_instance cannot tag
#     the primary interface it makes; Pilot tags it in RunInstances).

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region     = var.region
  access_key = "testing"
  secret_key = "testing"
  # Credentials are checked (sts:GetCallerIdentity, which also gives the
  # account id) as Pilot checks them on every run; only the instance metadata
  # service, which neither tool needs with static keys, is skipped.
  skip_metadata_api_check = true
  endpoints {
    ec2 = var.endpoint
    iam = var.endpoint
    rds = var.endpoint
    sts = var.endpoint
  }
}

locals {
  # src/providers/aws/provider.ts: VPC_CIDR, SUBNETS, WAYPOINT_PORTS, APP_LB_PORT, POSTGRES_PORT, ROOT_VOLUME_GB, DB_STORAGE_GB.
  vpc_cidr       = "10.42.0.0/16"
  public_cidr    = "10.42.0.0/24"
  public_b_cidr  = "10.42.1.0/24"
  private_a_cidr = "10.42.10.0/24"
  private_b_cidr = "10.42.11.0/24"
  server_ports   = [22, 9701, 9702]
  app_lb_port    = 80
  postgres_port  = 5432
  root_volume_gb = 30
  db_storage_gb  = 20

  # uniqueName(): names unique per account or region carry the lineage's first 8 characters.
  unique = "pilot-${substr(var.stack, 0, 32)}-${substr(var.stack_id, 0, 8)}"

  # shared.ts stackTagList(): pilot:stack, pilot:stack-id, pilot:key and Name on everything.
  stack_tags = { "pilot:stack" = var.stack, "pilot:stack-id" = var.stack_id }
  tags = { for key in [
    "vpc", "igw", "subnet-public", "subnet-private-a", "subnet-private-b", "subnet-public-b",
    "route-public", "sg-server", "sg-lb", "sg-apps", "sg-db", "key-pair", "role-server", "profile-server", "server", "eip",
    "db-subnet-group", "db",
  ] : key => merge(local.stack_tags, { "pilot:key" = key, Name = "pilot-${var.stack}-${key}" }) }

  # instance.ts architectureOf(): Graviton families run arm64 images.
  arch        = can(regex("^[a-z]+[0-9]+g|^a1[.]", var.instance_type)) ? "arm64" : "x86_64"
  ubuntu_arch = local.arch == "arm64" ? "arm64" : "amd64"
}

# --- Zones: subnet.ts availabilityZones() and zonesOffering(), sorted by name.

data "aws_availability_zones" "available" {
  state = "available"
  filter {
    name   = "zone-type"
    values = ["availability-zone"]
  }
}

data "aws_ec2_instance_type_offerings" "server" {
  location_type = "availability-zone"
  filter {
    name   = "instance-type"
    values = [var.instance_type]
  }
}

locals {
  zones        = sort(data.aws_availability_zones.available.names)
  server_zones = sort(setintersection(local.zones, data.aws_ec2_instance_type_offerings.server.locations))
}

# --- Network

resource "aws_vpc" "main" {
  cidr_block = local.vpc_cidr
  tags       = local.tags["vpc"]
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id
  tags   = local.tags["igw"]
}

resource "aws_subnet" "public" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = local.public_cidr
  availability_zone = local.server_zones[0]
  tags              = local.tags["subnet-public"]
}

# RDS requires a subnet group spanning two zones even for a single-AZ database.
resource "aws_subnet" "private_a" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = local.private_a_cidr
  availability_zone = local.zones[0]
  tags              = local.tags["subnet-private-a"]
}

resource "aws_subnet" "private_b" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = local.private_b_cidr
  availability_zone = local.zones[1]
  tags              = local.tags["subnet-private-b"]
}

# ECS apps: an internet-facing load balancer needs public subnets in two zones,
# and the apps' tasks run there with public addresses (no NAT gateway).
resource "aws_subnet" "public_b" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = local.public_b_cidr
  availability_zone = local.zones[1]
  tags              = local.tags["subnet-public-b"]
}

# Pilot's "route-public" node is the table, its default route and its two associations.
resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.main.id
  }
  tags = local.tags["route-public"]
}

resource "aws_route_table_association" "public" {
  route_table_id = aws_route_table.public.id
  subnet_id      = aws_subnet.public.id
}

resource "aws_route_table_association" "public_b" {
  route_table_id = aws_route_table.public.id
  subnet_id      = aws_subnet.public_b.id
}

# --- Security groups. Inline rules, so each group is one resource whose rules
# are all compared on refresh, like Pilot's security-group node. AWS's default
# egress (all outbound) is written out: Terraform removes it otherwise.

resource "aws_security_group" "server" {
  name        = "pilot-${var.stack}-sg-server"
  description = "Pilot server: SSH and Waypoint from the allowed ranges only"
  vpc_id      = aws_vpc.main.id
  dynamic "ingress" {
    for_each = local.server_ports
    content {
      protocol    = "tcp"
      from_port   = ingress.value
      to_port     = ingress.value
      cidr_blocks = var.allow_cidrs
    }
  }
  egress {
    protocol    = "-1"
    from_port   = 0
    to_port     = 0
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = local.tags["sg-server"]
}

# The apps' load balancers: HTTP from the allowed ranges, or from anywhere with --public-apps.
resource "aws_security_group" "lb" {
  name        = "pilot-${var.stack}-sg-lb"
  description = "Pilot apps' load balancers: HTTP from the ranges the stack allows"
  vpc_id      = aws_vpc.main.id
  ingress {
    protocol    = "tcp"
    from_port   = local.app_lb_port
    to_port     = local.app_lb_port
    cidr_blocks = var.public_apps ? ["0.0.0.0/0"] : var.allow_cidrs
  }
  egress {
    protocol    = "-1"
    from_port   = 0
    to_port     = 0
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = local.tags["sg-lb"]
}

# Any TCP port from the load balancers' group: each app listens on its own port.
resource "aws_security_group" "apps" {
  name        = "pilot-${var.stack}-sg-apps"
  description = "Pilot apps (ECS services): from their load balancers only"
  vpc_id      = aws_vpc.main.id
  ingress {
    protocol        = "tcp"
    from_port       = 0
    to_port         = 65535
    security_groups = [aws_security_group.lb.id]
  }
  egress {
    protocol    = "-1"
    from_port   = 0
    to_port     = 0
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = local.tags["sg-apps"]
}

resource "aws_security_group" "db" {
  name        = "pilot-${var.stack}-sg-db"
  description = "Pilot database: PostgreSQL from the server and the apps only"
  vpc_id      = aws_vpc.main.id
  ingress {
    protocol        = "tcp"
    from_port       = local.postgres_port
    to_port         = local.postgres_port
    security_groups = [aws_security_group.server.id, aws_security_group.apps.id]
  }
  egress {
    protocol    = "-1"
    from_port   = 0
    to_port     = 0
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = local.tags["sg-db"]
}

# --- The server: key pair, role with its inline policy, instance profile, instance, address.

resource "aws_key_pair" "server" {
  key_name   = "${local.unique}-ssh"
  public_key = var.public_key
  tags       = local.tags["key-pair"]
}

resource "aws_iam_role" "server" {
  name        = "${local.unique}-server"
  description = "Pilot server of stack ${var.stack}: push to ECR, deploy to ECS"
  # server-policy.ts ec2AssumeRolePolicy().
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
  tags = local.tags["role-server"]
}

resource "aws_iam_role_policy" "server" {
  name   = "pilot-waypoint-runner"
  role   = aws_iam_role.server.id
  policy = replace(var.server_policy, "VPC_ID", aws_vpc.main.id)
}

resource "aws_iam_instance_profile" "server" {
  name = "${local.unique}-server"
  role = aws_iam_role.server.name
  tags = local.tags["profile-server"]
}

# instance.ts findUbuntuImage(): the newest Ubuntu 24.04 image from Canonical's account.
data "aws_ami" "ubuntu" {
  most_recent = true
  owners      = ["099720109477"]
  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd*/ubuntu-noble-24.04-${local.ubuntu_arch}-server-*"]
  }
  filter {
    name   = "architecture"
    values = [local.arch]
  }
  filter {
    name   = "state"
    values = ["available"]
  }
}

resource "aws_instance" "server" {
  ami                    = data.aws_ami.ubuntu.id
  instance_type          = var.instance_type
  subnet_id              = aws_subnet.public.id
  vpc_security_group_ids = [aws_security_group.server.id]
  key_name               = aws_key_pair.server.key_name
  iam_instance_profile   = aws_iam_instance_profile.server.name
  # IMDSv2 only, hop limit 2 (the runner asks from inside a container).
  metadata_options {
    http_tokens                 = "required"
    http_endpoint               = "enabled"
    http_put_response_hop_limit = 2
  }
  root_block_device {
    volume_size           = local.root_volume_gb
    volume_type           = "gp3"
    encrypted             = true
    delete_on_termination = true
  }
  tags        = local.tags["server"]
  volume_tags = local.tags["server"]
  # Pilot's server node depends on the route table: the server must reach the internet once running.
  depends_on = [aws_route_table_association.public, aws_route_table_association.public_b]
}

# An address can only be associated once the VPC has an internet gateway.
resource "aws_eip" "server" {
  domain     = "vpc"
  instance   = aws_instance.server.id
  tags       = local.tags["eip"]
  depends_on = [aws_internet_gateway.main]
}

# --- The database

resource "aws_db_subnet_group" "main" {
  # RDS stores subnet group names in lower case.
  name        = lower("${local.unique}-db")
  description = "Pilot database subnets of stack ${var.stack}"
  subnet_ids  = [aws_subnet.private_a.id, aws_subnet.private_b.id]
  tags        = local.tags["db-subnet-group"]
}

resource "aws_db_instance" "main" {
  # db-instance.ts dbIdentifier(): "pilot-<stack>-<8 hex>".
  identifier                 = "pilot-${var.stack}-${substr(sha256(var.stack_id), 0, 8)}"
  engine                     = "postgres"
  engine_version             = "16"
  instance_class             = var.db_instance_class
  allocated_storage          = local.db_storage_gb
  storage_type               = "gp3"
  storage_encrypted          = true
  publicly_accessible        = false
  multi_az                   = false
  db_subnet_group_name       = aws_db_subnet_group.main.name
  vpc_security_group_ids     = [aws_security_group.db.id]
  username                   = "pilot"
  password                   = var.db_password
  db_name                    = "pilot"
  port                       = local.postgres_port
  backup_retention_period    = 7
  copy_tags_to_snapshot      = true
  auto_minor_version_upgrade = true
  apply_immediately          = true
  # Pilot creates it with deletion protection on and `pilot teardown` lifts it
  # (one ModifyDBInstance) after the user confirms; here it stays off so that
  # `terraform destroy` works without editing the config first.
  deletion_protection = false
  # `pilot teardown --skip-final-snapshot` in the benchmark, for the same delete.
  skip_final_snapshot = true
  tags                = local.tags["db"]
}
