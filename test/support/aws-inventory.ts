/**
 * Everything in an AWS account (moto) that belongs to a stack, found the way
 * an auditor would: EC2 and RDS by the `pilot:stack` tag, IAM and DB subnet
 * groups by their `pilot-<stack>-` name prefix. Terminated instances are left
 * out (AWS lists them for an hour); moto's DescribeTags keeps rows of deleted
 * resources, so each service is asked directly.
 */
import {
  DescribeAddressesCommand, DescribeInstancesCommand, DescribeInternetGatewaysCommand, DescribeKeyPairsCommand,
  DescribeRouteTablesCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client,
} from "@aws-sdk/client-ec2";
import { IAMClient, ListInstanceProfilesCommand, ListRolesCommand } from "@aws-sdk/client-iam";
import { DescribeDBInstancesCommand, DescribeDBSubnetGroupsCommand, RDSClient } from "@aws-sdk/client-rds";

/** Resource ids by kind, e.g. {vpc: ["vpc-1"], instance: ["i-1"]}. */
export type Inventory = Record<string, string[]>;

export interface InventoryFilter {
  /** Tag to match on EC2 and RDS resources. */
  tag: { key: string; value: string };
  /** Name prefix for IAM roles, instance profiles and DB subnet groups (which the stack names, not tags, in moto). */
  namePrefix?: string;
}

/** `env` (e.g. motoEnv(url)) overrides this process's AWS_ENDPOINT_URL and credentials. */
export async function awsInventory(filter: InventoryFilter, region = "us-east-1", env?: NodeJS.ProcessEnv): Promise<Inventory> {
  const config = {
    region,
    ...(env?.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}),
    ...(env?.AWS_ACCESS_KEY_ID ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "" } } : {}),
  };
  const ec2 = new EC2Client(config);
  const rds = new RDSClient(config);
  const iam = new IAMClient(config);
  try {
    const Filters = [{ Name: `tag:${filter.tag.key}`, Values: [filter.tag.value] }];
    const live = { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped"] };
    const [vpcs, subnets, igws, rts, sgs, keys, eips, instances, dbs, groups, roles, profiles] = await Promise.all([
      ec2.send(new DescribeVpcsCommand({ Filters })),
      ec2.send(new DescribeSubnetsCommand({ Filters })),
      ec2.send(new DescribeInternetGatewaysCommand({ Filters })),
      ec2.send(new DescribeRouteTablesCommand({ Filters })),
      ec2.send(new DescribeSecurityGroupsCommand({ Filters })),
      ec2.send(new DescribeKeyPairsCommand({ Filters })),
      ec2.send(new DescribeAddressesCommand({ Filters })),
      ec2.send(new DescribeInstancesCommand({ Filters: [...Filters, live] })),
      rds.send(new DescribeDBInstancesCommand({})),
      rds.send(new DescribeDBSubnetGroupsCommand({})),
      iam.send(new ListRolesCommand({})),
      iam.send(new ListInstanceProfilesCommand({})),
    ]);
    const prefixed = (name: string | undefined) => Boolean(filter.namePrefix && name?.startsWith(filter.namePrefix));
    return {
      vpc: (vpcs.Vpcs ?? []).map((x) => x.VpcId!),
      subnet: (subnets.Subnets ?? []).map((x) => x.SubnetId!),
      igw: (igws.InternetGateways ?? []).map((x) => x.InternetGatewayId!),
      routeTable: (rts.RouteTables ?? []).map((x) => x.RouteTableId!),
      securityGroup: (sgs.SecurityGroups ?? []).map((x) => x.GroupId!),
      keyPair: (keys.KeyPairs ?? []).map((x) => x.KeyName!),
      eip: (eips.Addresses ?? []).map((x) => x.AllocationId!),
      instance: (instances.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((x) => x.InstanceId!),
      db: (dbs.DBInstances ?? [])
        .filter((d) => d.DBInstanceStatus !== "deleting" && (d.TagList ?? []).some((t) => t.Key === filter.tag.key && t.Value === filter.tag.value))
        .map((d) => d.DBInstanceIdentifier!),
      dbSubnetGroup: (groups.DBSubnetGroups ?? []).filter((g) => prefixed(g.DBSubnetGroupName)).map((g) => g.DBSubnetGroupName!),
      role: (roles.Roles ?? []).filter((r) => prefixed(r.RoleName)).map((r) => r.RoleName!),
      instanceProfile: (profiles.InstanceProfiles ?? []).filter((p) => prefixed(p.InstanceProfileName)).map((p) => p.InstanceProfileName!),
    };
  } finally {
    ec2.destroy();
    rds.destroy();
    iam.destroy();
  }
}

/** Total count of resources in an inventory. */
export function inventorySize(inv: Inventory): number {
  return Object.values(inv).reduce((n, ids) => n + ids.length, 0);
}
