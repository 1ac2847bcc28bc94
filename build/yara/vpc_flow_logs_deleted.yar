rule vpc_flow_logs_deleted
{
    meta:
        id = "337a8eb1-a7e4-493e-abe9-49549d672891"
        title = "VPC Flow Logs Deleted"
        description = "A principal deletes VPC flow logs, removing the network records of the VPC, subnet or interface."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.defense-evasion, attack.t1562.008"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.defense-evasion.vpc-remove-flow-logs/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // ec2:DeleteFlowLogs: Deletes one or more flow logs.
        $flow_logs_01 = "delete-flow-logs" ascii wide
        // ec2:DeleteFlowLogs: Deletes one or more flow logs.
        $flow_logs_02 = "delete_flow_logs" ascii wide
    condition:
        any of ($flow_logs_*)
}
