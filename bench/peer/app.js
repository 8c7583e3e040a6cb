#!/usr/bin/env node
// bench/synth.sh's JS peer (issue 14 item 7): a plain-JS CDK app of the same stack as the Go
// app's `environment=example drMode=none` cache stack, on the aws-cdk-lib and constructs the Go
// bindings bundle: ElastiCache Serverless (valkey) cache, its security group, RBAC user + user
// group + Secrets Manager secret, Route 53 regional CNAME + PRIMARY failover record + health
// checks, SSM parameters, CloudWatch alarms on a KMS-encrypted SNS topic, dashboard, outputs.
// Not here: the health canary (a Lambda asset) and what only it needs, cdk-nag and our rules.
// It is a benchmark subject, never deployed: the ids and values are the example environment's.
// Run: node_modules/.bin/cdk synth --app "node bench/peer/app.js" (from the repo root).
'use strict';
const cdk = require('aws-cdk-lib');
const { aws_ec2: ec2, aws_elasticache: elasticache, aws_secretsmanager: sm, aws_route53: r53,
  aws_ssm: ssm, aws_cloudwatch: cw, aws_cloudwatch_actions: cwa, aws_sns: sns, aws_kms: kms,
  aws_iam: iam } = cdk;

const cfg = {
  environment: 'example', drMode: 'none', account: '111111111111', region: 'us-east-1',
  drRegion: 'us-west-2', cacheName: 'example-sessions', vpcId: 'vpc-00000000000000e01',
  subnetIds: ['subnet-00000000000000e1a', 'subnet-00000000000000e1b'],
  appSecurityGroupId: 'sg-00000000000000e01', appCidr: '10.10.0.0/16',
  hostedZoneId: 'Z00000000EXAMPLE1', serviceName: 'sessions.cache.internal.example.com',
  regionalName: 'sessions.us-east-1.cache.internal.example.com', ssmPrefix: '/valkey-dr/example',
  userName: 'app', maxStorageGb: 10, maxEcpu: 5000, slaP99Micros: 2000, maxConnections: 5000,
};

class SessionCacheStack extends cdk.Stack {
  constructor(scope, id, props) {
    super(scope, id, props);
    const c = cfg;
    const alarmPrefix = `ValkeyDr-${c.environment}-${c.region}-primary`;

    // Security group: ingress 6379-6380 from the application only; no egress.
    const sg = new ec2.CfnSecurityGroup(this, 'SessionCacheSecurityGroup', {
      groupDescription: `ElastiCache Serverless ${c.cacheName}: Valkey TLS 6379 (read/write) and 6380 (reader) from application sources only`,
      vpcId: c.vpcId,
      securityGroupEgress: [{ cidrIp: '255.255.255.255/32', description: 'Disallow all traffic: the cache never initiates connections', ipProtocol: 'icmp', fromPort: 252, toPort: 86 }],
      securityGroupIngress: [
        { description: `Valkey TLS 6379-6380 from application security group ${c.appSecurityGroupId}`, ipProtocol: 'tcp', fromPort: 6379, toPort: 6380, sourceSecurityGroupId: c.appSecurityGroupId },
        { description: `Valkey TLS 6379-6380 from application network ${c.appCidr}`, ipProtocol: 'tcp', fromPort: 6379, toPort: 6380, cidrIp: c.appCidr },
      ],
    });
    sg.overrideLogicalId('SessionCacheSecurityGroup');

    // RBAC: the password in Secrets Manager, the user, the user group.
    const secret = new sm.CfnSecret(this, 'SessionCacheUserSecret', {
      description: `Password of ElastiCache user ${c.cacheName}-${c.userName} on serverless cache ${c.cacheName} (JSON: username, password)`,
      generateSecretString: { secretStringTemplate: JSON.stringify({ username: c.userName }), generateStringKey: 'password', passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });
    secret.overrideLogicalId('SessionCacheUserSecret');
    const user = new elasticache.CfnUser(this, 'SessionCacheUser', {
      engine: 'valkey', userId: `${c.cacheName}-${c.userName}`, userName: c.userName,
      accessString: 'on ~* &* +@all -@dangerous +cluster|shards +cluster|slots +cluster|info',
      authenticationMode: { Type: 'password', Passwords: [`{{resolve:secretsmanager:${secret.ref}:SecretString:password::}}`] },
    });
    user.overrideLogicalId('SessionCacheUser');
    const group = new elasticache.CfnUserGroup(this, 'SessionCacheUserGroup', {
      engine: 'valkey', userGroupId: `${c.cacheName}-users`, userIds: [user.ref],
    });
    group.overrideLogicalId('SessionCacheUserGroup');

    // The cache.
    const cache = new elasticache.CfnServerlessCache(this, 'SessionCache', {
      engine: 'valkey', majorEngineVersion: '8', serverlessCacheName: c.cacheName,
      description: `valkey-dr session cache: environment ${c.environment}, region ${c.region}, drMode ${c.drMode}`,
      cacheUsageLimits: { dataStorage: { maximum: c.maxStorageGb, unit: 'GB' }, ecpuPerSecond: { maximum: c.maxEcpu } },
      securityGroupIds: [sg.ref], subnetIds: c.subnetIds, userGroupId: group.ref, snapshotRetentionLimit: 0,
    });
    cache.overrideLogicalId('SessionCache');

    // Alarms: a KMS-encrypted, TLS-only SNS topic; the canary's health and the cache's metrics.
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: `Encrypts the alarm topic of session cache ${c.cacheName}`, enableKeyRotation: true,
    });
    key.addToResourcePolicy(new iam.PolicyStatement({
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')], resources: ['*'],
    }));
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `valkey-dr alarms for ${c.cacheName}`, masterKey: key, enforceSSL: true,
    });
    const action = new cwa.SnsAction(topic);
    const alarm = (id, name, description, metric, threshold, op, periods, datapoints, missing) => {
      const a = new cw.Alarm(this, id, {
        alarmName: `${alarmPrefix}-${name}`, alarmDescription: description, metric, threshold,
        comparisonOperator: op, evaluationPeriods: periods, datapointsToAlarm: datapoints, treatMissingData: missing,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
      return a;
    };
    const ec = (metricName, statistic) => new cw.Metric({
      namespace: 'AWS/ElastiCache', metricName, statistic, period: cdk.Duration.minutes(1), dimensionsMap: { clusterId: c.cacheName },
    });
    const canary = (metricName) => new cw.Metric({
      namespace: 'ValkeyDr/Canary', metricName, statistic: 'Minimum', period: cdk.Duration.minutes(1), dimensionsMap: { CacheName: c.cacheName },
    });
    const C = cw.ComparisonOperator, M = cw.TreatMissingData;
    const health = alarm('CacheHealth', 'cache-health',
      `The health canary of serverless cache ${c.cacheName} failed its checks (or published nothing) for 3 minutes in a row: Route 53 fails the service name over to the DR region.`,
      canary('Success'), 1, C.LESS_THAN_THRESHOLD, 3, 3, M.BREACHING);
    const reader = alarm('ReaderHealth', 'reader-health',
      `The read port (read-from-replica) of serverless cache ${c.cacheName} failed the canary's reader checks for 3 minutes. This alarm never moves traffic.`,
      canary('ReaderSuccess'), 1, C.LESS_THAN_THRESHOLD, 3, 3, M.BREACHING);
    const alarms = [health, reader,
      alarm('EcpuUsage', 'ecpu-usage', `ECPU consumption at 75% or more of the ${c.maxEcpu} ECPU/s limit.`,
        ec('ElastiCacheProcessingUnits', 'Sum'), c.maxEcpu * 60 * 0.75, C.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, 3, 2, M.NOT_BREACHING),
      alarm('StorageUsage', 'storage-usage', `Data stored at 75% or more of the ${c.maxStorageGb} GB limit.`,
        ec('BytesUsedForCache', 'Maximum'), c.maxStorageGb * 1e9 * 0.75, C.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, 3, 2, M.NOT_BREACHING),
      alarm('Throttled', 'throttled', 'ElastiCache throttled commands: the workload is scaling faster than the cache (or hit its ECPU limit).',
        ec('ThrottledCmds', 'Sum'), 0, C.GREATER_THAN_THRESHOLD, 3, 2, M.NOT_BREACHING),
      alarm('ConnectionsSurge', 'connections-surge', `More than ${c.maxConnections} client connections: a reconnect storm or a connection leak.`,
        ec('CurrConnections', 'Maximum'), c.maxConnections, C.GREATER_THAN_THRESHOLD, 3, 2, M.NOT_BREACHING),
      alarm('ReadLatencyP99', 'read-latency-p99', `p99 read latency above the SLA of ${c.slaP99Micros} µs for 3 minutes.`,
        ec('SuccessfulReadRequestLatency', 'p99'), c.slaP99Micros, C.GREATER_THAN_THRESHOLD, 3, 3, M.NOT_BREACHING),
      alarm('WriteLatencyP99', 'write-latency-p99', `p99 write latency above the SLA of ${c.slaP99Micros} µs for 3 minutes.`,
        ec('SuccessfulWriteRequestLatency', 'p99'), c.slaP99Micros, C.GREATER_THAN_THRESHOLD, 3, 3, M.NOT_BREACHING),
    ];

    // Dashboard: the alarms, then latency, ECPU, storage, connections.
    const dash = new cw.Dashboard(this, 'Dashboard', { dashboardName: `ValkeyDr-${c.environment}-${c.region}-primary` });
    dash.addWidgets(new cw.AlarmStatusWidget({ title: `Session cache ${c.cacheName}: alarms`, alarms, width: 24, height: 3 }));
    dash.addWidgets(
      new cw.GraphWidget({ title: 'Latency p99 (µs)', left: [ec('SuccessfulReadRequestLatency', 'p99'), ec('SuccessfulWriteRequestLatency', 'p99')], width: 12 }),
      new cw.GraphWidget({ title: 'ECPU', left: [ec('ElastiCacheProcessingUnits', 'Sum')], width: 12 }));
    dash.addWidgets(
      new cw.GraphWidget({ title: 'Storage (bytes)', left: [ec('BytesUsedForCache', 'Maximum')], width: 12 }),
      new cw.GraphWidget({ title: 'Connections, throttled', left: [ec('CurrConnections', 'Maximum')], right: [ec('ThrottledCmds', 'Sum')], width: 12 }));

    // Route 53: the primary's health (canary alarm AND the operator's failover override), the
    // regional CNAME and the PRIMARY record of the service name's failover pair.
    const primaryHc = new r53.CfnHealthCheck(this, 'DnsPrimaryHealthCheck', { healthCheckConfig: {
      type: 'CLOUDWATCH_METRIC', alarmIdentifier: { name: health.alarmName, region: c.region }, insufficientDataHealthStatus: 'Unhealthy' } });
    const overrideHc = new r53.CfnHealthCheck(this, 'DnsFailoverOverrideHealthCheck', { healthCheckConfig: {
      type: 'CLOUDWATCH_METRIC', alarmIdentifier: { name: `ValkeyDr-${c.environment}-failover-requested`, region: c.drRegion }, insufficientDataHealthStatus: 'Healthy' } });
    const calculated = new r53.CfnHealthCheck(this, 'DnsPrimaryCalculatedHealthCheck', { healthCheckConfig: {
      type: 'CALCULATED', childHealthChecks: [primaryHc.attrHealthCheckId, overrideHc.attrHealthCheckId], healthThreshold: 2 } });
    new r53.CfnRecordSet(this, 'DnsRegionalRecord', {
      hostedZoneId: c.hostedZoneId, name: c.regionalName, type: 'CNAME', ttl: '30',
      resourceRecords: [cache.attrEndpointAddress], comment: 'Regional name of the session cache endpoint (valkey-dr)' });
    new r53.CfnRecordSet(this, 'DnsServiceRecord', {
      hostedZoneId: c.hostedZoneId, name: c.serviceName, type: 'CNAME', ttl: '30', setIdentifier: 'primary', failover: 'PRIMARY',
      healthCheckId: calculated.attrHealthCheckId, resourceRecords: [cache.attrEndpointAddress],
      comment: 'Service name of the session cache, PRIMARY of the failover pair (valkey-dr)' });

    // SSM parameters the application reads.
    const param = (id, name, description, value) => new ssm.StringParameter(this, id, { parameterName: `${c.ssmPrefix}/${name}`, description, stringValue: value });
    param('AppConfigEndpointAddress', 'endpoint-address', 'Session cache endpoint hostname (TLS certificate matches it)', cache.attrEndpointAddress);
    param('AppConfigPort', 'port', 'Session cache read/write port', cache.attrEndpointPort);
    param('AppConfigReaderPort', 'reader-port', 'Session cache read-from-replica port', cache.attrReaderEndpointPort);
    param('AppConfigSecretArn', 'secret-arn', 'ARN of the Secrets Manager secret with the session cache password (read it with secretsmanager:GetSecretValue)', secret.ref);
    param('AppConfigUserName', 'user-name', 'Session cache user name to authenticate as', c.userName);
    param('AppConfigAuthMode', 'auth-mode', 'Session cache auth mode: password, iam or none', 'password');

    const out = (id, value) => new cdk.CfnOutput(this, id, { value });
    out('CacheName', c.cacheName); out('Environment', c.environment); out('DrMode', c.drMode); out('Region', c.region);
    out('EndpointAddress', cache.attrEndpointAddress); out('EndpointPort', cache.attrEndpointPort); out('ReaderPort', cache.attrReaderEndpointPort);
    out('SecretArn', secret.ref); out('SecurityGroupId', sg.attrGroupId); out('UserId', user.ref); out('UserName', c.userName); out('AuthMode', 'password');
    out('RegionalDnsName', c.regionalName); out('ServiceDnsName', c.serviceName); out('SsmParameterPrefix', c.ssmPrefix);

    for (const [k, v] of Object.entries({ dataClassification: 'synthetic', drMode: c.drMode, environment: c.environment, managedBy: 'valkey-dr', owner: 'cloud-operations' })) {
      cdk.Tags.of(this).add(k, v);
    }
  }
}

const app = new cdk.App();
new SessionCacheStack(app, `ValkeyDrPeer-${cfg.environment}-${cfg.drMode}`, { env: { account: cfg.account, region: cfg.region } });
app.synth();
