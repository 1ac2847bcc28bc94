rule service_quota_increase_requested
{
    meta:
        id = "ce844ac6-951d-44f3-9039-c7a00d2ea62f"
        title = "Service Quota Increase Requested"
        description = "A principal asks AWS to raise a service quota. Cryptominers request higher EC2 vCPU (often GPU) quotas in a stolen account so that they can launch more instances."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.impact, attack.t1496.001"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.execution.ec2-launch-unusual-instances/"
        reference = "https://sysdig.com/blog/scarleteel-2-0/"
        reference = "https://docs.aws.amazon.com/servicequotas/latest/userguide/request-quota-increase.html"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // service-quotas:RequestServiceQuotaIncrease: Submits a quota increase request for the specified quota at the account or resource level.
        $increase_01 = "request-service-quota-increase" ascii wide
        // service-quotas:RequestServiceQuotaIncrease: Submits a quota increase request for the specified quota at the account or resource level.
        $increase_02 = "request_service_quota_increase" ascii wide
    condition:
        any of ($increase_*)
}
