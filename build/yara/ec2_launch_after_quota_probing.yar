rule ec2_launch_after_quota_probing
{
    meta:
        id = "f07b5b42-4cd4-4c0b-baf4-ba61d63b813f"
        title = "EC2 Instances Launched After Service Quota Probing"
        description = "One principal reads or raises EC2 service quotas and launches instances, Spot requests or fleets within six hours: the preparation and start of a cryptomining burst in a stolen account. Counting launches is not expressible here, so the quota step stands in for the burst."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "high"
        tags = "attack.impact, attack.t1496.001"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.execution.ec2-launch-unusual-instances/"
        reference = "https://sysdig.com/blog/scarleteel-2-0/"
        reference = "https://docs.aws.amazon.com/servicequotas/latest/userguide/request-quota-increase.html"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // service-quotas:GetServiceQuota: Retrieves the applied quota value for the specified account-level or resource-level quota.
        $quota_01 = "get-service-quota" ascii wide
        // service-quotas:GetServiceQuota: Retrieves the applied quota value for the specified account-level or resource-level quota.
        $quota_02 = "get_service_quota" ascii wide
        // service-quotas:ListServiceQuotas: Lists the applied quota values for the specified Amazon Web Services service.
        $quota_03 = "list-service-quotas" ascii wide
        // service-quotas:ListServiceQuotas: Lists the applied quota values for the specified Amazon Web Services service.
        $quota_04 = "list_service_quotas" ascii wide
        // service-quotas:RequestServiceQuotaIncrease: Submits a quota increase request for the specified quota at the account or resource level.
        $quota_05 = "request-service-quota-increase" ascii wide
        // service-quotas:RequestServiceQuotaIncrease: Submits a quota increase request for the specified quota at the account or resource level.
        $quota_06 = "request_service_quota_increase" ascii wide
        // ec2:CreateFleet: Creates an EC2 Fleet that contains the configuration information for On-Demand Instances and Spot Instances.
        $launch_01 = "create-fleet" ascii wide
        // ec2:CreateFleet: Creates an EC2 Fleet that contains the configuration information for On-Demand Instances and Spot Instances.
        $launch_02 = "create_fleet" ascii wide
        // ec2:RequestSpotFleet: Creates a Spot Fleet request.
        $launch_03 = "request-spot-fleet" ascii wide
        // ec2:RequestSpotInstances: Creates a Spot Instance request.
        $launch_04 = "request-spot-instances" ascii wide
        // ec2:RequestSpotFleet: Creates a Spot Fleet request.
        $launch_05 = "request_spot_fleet" ascii wide
        // ec2:RequestSpotInstances: Creates a Spot Instance request.
        $launch_06 = "request_spot_instances" ascii wide
        // ec2:RunInstances: Launches the specified number of instances using an AMI for which you have permissions.
        $launch_07 = "run-instances" ascii wide
        // ec2:RunInstances: Launches the specified number of instances using an AMI for which you have permissions.
        $launch_08 = "run_instances" ascii wide
    condition:
        any of ($quota_*) and any of ($launch_*)
}
