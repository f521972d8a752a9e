import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface ComputeNetworkProps {
  /** Days the rejected-traffic flow logs are kept; default 30. */
  readonly logRetentionDays?: number;
  /** Availability zones the public subnets span; default 2. */
  readonly maxAzs?: number;
}

/**
 * Where the trainer instances run: public subnets only, no NAT gateway (nothing costs money while
 * no job runs), S3 and DynamoDB gateway endpoints for same-region traffic, rejected flows logged,
 * and one security group with no inbound rule and HTTPS as the only outbound port. Instances get a public IPv4 address for outbound
 * calls (ECR, Batch, the control region's S3 and DynamoDB over TLS); nothing can reach them.
 */
export class ComputeNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  readonly securityGroup: ec2.SecurityGroup;
  readonly flowLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ComputeNetworkProps = {}) {
    super(scope, id);
    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: (props.logRetentionDays ?? 30) as logs.RetentionDays,
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: props.maxAzs ?? 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: true }],
      // Restricting the default group takes a custom-resource Lambda; nothing is ever placed in the
      // default group (the compute environments use `securityGroup` below), so there is nothing to restrict.
      restrictDefaultSecurityGroup: false,
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
      flowLogs: {
        Rejected: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
          trafficType: ec2.FlowLogTrafficType.REJECT,
        },
      },
    });
    this.securityGroup = new ec2.SecurityGroup(this, 'Instances', {
      vpc: this.vpc,
      description: 'Whetstone trainer instances: no inbound traffic, outbound HTTPS only',
      allowAllOutbound: false,
    });
    // Every call the instances make (ECS agent, ECR, CloudWatch Logs, S3, DynamoDB) is HTTPS; the
    // VPC resolver, time sync and instance metadata are link-local, which security groups never filter.
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs');
  }
}
