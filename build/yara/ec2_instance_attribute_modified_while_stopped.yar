rule ec2_instance_attribute_modified_while_stopped
{
    meta:
        id = "defaeb06-fb24-47fe-b37e-71d7f334715d"
        title = "EC2 Instance Stopped and Its Attributes Modified"
        description = "One principal stops an instance and modifies its attributes within an hour. User data can only be replaced on a stopped instance, so this is the sequence that plants a script to run at the next boot. The changed attribute (userData) is a request parameter, not part of the API name."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.execution, attack.t1059.009"
        reference = "https://hackingthe.cloud/aws/exploitation/local_ec2_priv_esc_through_user_data/"
        reference = "https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // ec2:StopInstances: Stops an Amazon EBS-backed instance.
        $stop_01 = "stop-instances" ascii wide
        // ec2:StopInstances: Stops an Amazon EBS-backed instance.
        $stop_02 = "stop_instances" ascii wide
        // ec2:ModifyInstanceAttribute: Modifies the specified attribute of the specified instance.
        $modify_01 = "modify-instance-attribute" ascii wide
        // ec2:ModifyInstanceAttribute: Modifies the specified attribute of the specified instance.
        $modify_02 = "modify_instance_attribute" ascii wide
    condition:
        any of ($stop_*) and any of ($modify_*)
}
