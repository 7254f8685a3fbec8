# Inputs of the Terraform twin of Pilot's AWS stack (bench/terraform.ts writes
# them to terraform.tfvars.json in a scratch folder; nothing here is a default
# a user would keep).

variable "endpoint" {
  description = "The counting proxy in front of moto (bench/api-counter.ts): every AWS call goes there."
  type        = string
}

variable "region" {
  type = string
}

variable "stack" {
  description = "The stack name: Pilot's --name."
  type        = string
}

variable "stack_id" {
  description = "The stack's lineage (a UUID), as Pilot keeps in state.json: its first 8 characters go into names unique per account."
  type        = string
}

variable "allow_cidrs" {
  description = "Pilot's --allow-cidr: who may reach SSH and Waypoint."
  type        = list(string)
}

variable "public_apps" {
  description = "Pilot's --public-apps: the apps' load balancers take HTTP from anywhere instead of from allow_cidrs."
  type        = bool
}

variable "instance_type" {
  type = string
}

variable "db_instance_class" {
  type = string
}

variable "public_key" {
  description = "The stack's ed25519 public key (Pilot generates its own in prepare)."
  type        = string
}

variable "db_password" {
  type      = string
  sensitive = true
}

variable "server_policy" {
  description = "Pilot's own server policy (src/providers/aws/server-policy.ts) with VPC_ID where the VPC id goes."
  type        = string
}
