rule ssm_remote_command_or_session
{
    meta:
        id = "7ed5d2e3-1bba-4fd7-9be9-01ad9f543e4f"
        title = "SSM Command Sent Or Session Started on Instances"
        description = "A principal runs a command on instances through SSM Run Command or opens an SSM Session Manager shell. Attackers use these to execute code on instances without network access or keys."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.execution, attack.t1651"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.execution.ssm-send-command/"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.execution.ssm-start-session/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // ssm:SendCommand: Runs commands on one or more managed nodes.
        $remote_01 = "send-command" ascii wide
        // ssm:SendCommand: Runs commands on one or more managed nodes.
        $remote_02 = "send_command" ascii wide
        // ssm:StartSession: Initiates a connection to a target (for example, a managed node) for a Session Manager session.
        $remote_03 = "start-session" ascii wide
        // ssm:StartSession: Initiates a connection to a target (for example, a managed node) for a Session Manager session.
        $remote_04 = "start_session" ascii wide
    condition:
        any of ($remote_*)
}
