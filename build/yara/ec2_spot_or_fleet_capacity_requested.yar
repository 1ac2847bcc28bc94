rule ec2_spot_or_fleet_capacity_requested
{
    meta:
        id = "21fa5f45-0e2c-47a8-a700-d019fe6f57db"
        title = "EC2 Spot Or Fleet Capacity Requested"
        description = "A principal requests Spot Instances, a Spot Fleet or an EC2 Fleet. Cryptomining campaigns use these calls to get many cheap instances at once from a stolen account."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "low"
        tags = "attack.impact, attack.t1496.001"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.execution.ec2-launch-unusual-instances/"
        reference = "https://sysdig.com/blog/scarleteel-2-0/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // ec2:CreateFleet: Creates an EC2 Fleet that contains the configuration information for On-Demand Instances and Spot Instances.
        $capacity_01 = "create-fleet" ascii wide
        // ec2:CreateFleet: Creates an EC2 Fleet that contains the configuration information for On-Demand Instances and Spot Instances.
        $capacity_02 = "create_fleet" ascii wide
        // ec2:RequestSpotFleet: Creates a Spot Fleet request.
        $capacity_03 = "request-spot-fleet" ascii wide
        // ec2:RequestSpotInstances: Creates a Spot Instance request.
        $capacity_04 = "request-spot-instances" ascii wide
        // ec2:RequestSpotFleet: Creates a Spot Fleet request.
        $capacity_05 = "request_spot_fleet" ascii wide
        // ec2:RequestSpotInstances: Creates a Spot Instance request.
        $capacity_06 = "request_spot_instances" ascii wide
    condition:
        any of ($capacity_*)
}
