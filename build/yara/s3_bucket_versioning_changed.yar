rule s3_bucket_versioning_changed
{
    meta:
        id = "46f710fc-8e25-4e16-b39e-3b3d0e815966"
        title = "S3 Bucket Versioning Changed"
        description = "A principal changes the versioning configuration of a bucket. Ransomware suspends versioning so that deleted or overwritten objects cannot be restored from earlier versions."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.impact, attack.t1490"
        reference = "https://rhinosecuritylabs.com/aws/s3-ransomware-part-1-attack-vector/"
        reference = "https://www.halcyon.ai/blog/abusing-aws-native-services-ransomware-encrypting-s3-buckets-with-sse-c"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.impact.s3-ransomware-batch-deletion/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // s3:PutBucketVersioning: This operation is not supported for directory buckets.
        $versioning_01 = "put-bucket-versioning" ascii wide
        // s3:PutBucketVersioning: This operation is not supported for directory buckets.
        $versioning_02 = "put_bucket_versioning" ascii wide
    condition:
        any of ($versioning_*)
}
