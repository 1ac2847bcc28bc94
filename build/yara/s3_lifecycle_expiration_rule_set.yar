rule s3_lifecycle_expiration_rule_set
{
    meta:
        id = "64ecd4ef-c850-48e8-b48e-f0a87e154695"
        title = "S3 Lifecycle Configuration Set on a Bucket"
        description = "A principal writes a lifecycle configuration on a bucket. A rule that expires every object after a day destroys data or CloudTrail logs without any delete call. CloudTrail records both the old and the current API as PutBucketLifecycle."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.impact, attack.defense-evasion, attack.t1485, attack.t1562.008"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.defense-evasion.cloudtrail-lifecycle-rule/"
        reference = "https://rhinosecuritylabs.com/aws/s3-ransomware-part-1-attack-vector/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // s3:PutBucketLifecycle: This operation is not supported for directory buckets.
        $lifecycle_01 = "put-bucket-lifecycle" ascii wide
        // s3:PutBucketLifecycleConfiguration: Creates a new lifecycle configuration for the bucket or replaces an existing lifecycle configuration.
        $lifecycle_02 = "put-bucket-lifecycle-configuration" ascii wide
        // s3:PutBucketLifecycle: This operation is not supported for directory buckets.
        $lifecycle_03 = "put_bucket_lifecycle" ascii wide
        // s3:PutBucketLifecycleConfiguration: Creates a new lifecycle configuration for the bucket or replaces an existing lifecycle configuration.
        $lifecycle_04 = "put_bucket_lifecycle_configuration" ascii wide
    condition:
        any of ($lifecycle_*)
}
