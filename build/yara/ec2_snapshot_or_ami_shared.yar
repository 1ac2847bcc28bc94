rule ec2_snapshot_or_ami_shared
{
    meta:
        id = "26a17988-0587-4e89-83df-e2210d34f973"
        title = "EC2 Snapshot Or AMI Sharing Permissions Modified"
        description = "A principal changes the create-volume permission of an EBS snapshot or the launch permission of an AMI. Adding another account (or `all`) copies the disk contents out of the account."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.exfiltration, attack.t1537"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.exfiltration.ec2-share-ebs-snapshot/"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.exfiltration.ec2-share-ami/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // ec2:ModifyImageAttribute: Modifies the specified attribute of the specified AMI.
        $share_01 = "modify-image-attribute" ascii wide
        // ec2:ModifySnapshotAttribute: Adds or removes permission settings for the specified snapshot.
        $share_02 = "modify-snapshot-attribute" ascii wide
        // ec2:ModifyImageAttribute: Modifies the specified attribute of the specified AMI.
        $share_03 = "modify_image_attribute" ascii wide
        // ec2:ModifySnapshotAttribute: Adds or removes permission settings for the specified snapshot.
        $share_04 = "modify_snapshot_attribute" ascii wide
    condition:
        any of ($share_*)
}
