rule s3_mass_deletion_after_protection_change
{
    meta:
        id = "72e2a289-04fe-4857-8d7f-72a0c4a315af"
        title = "S3 Batch Object Deletion After Bucket Protection Change"
        description = "One principal weakens a bucket (versioning, lifecycle or default encryption) and deletes objects in batches (DeleteObjects) within an hour: the pattern of S3 ransomware that removes data after making it unrecoverable. DeleteObjects is a data event and is only logged when S3 data events are enabled."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "high"
        tags = "attack.impact, attack.t1485, attack.t1490"
        reference = "https://rhinosecuritylabs.com/aws/s3-ransomware-part-1-attack-vector/"
        reference = "https://www.halcyon.ai/blog/abusing-aws-native-services-ransomware-encrypting-s3-buckets-with-sse-c"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.impact.s3-ransomware-batch-deletion/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // s3:DeleteBucketEncryption: This implementation of the DELETE action resets the default encryption for the bucket as server-side encryption with Amazon S3 managed keys (SSE-S3).
        $protection_01 = "delete-bucket-encryption" ascii wide
        // s3:DeleteBucketEncryption: This implementation of the DELETE action resets the default encryption for the bucket as server-side encryption with Amazon S3 managed keys (SSE-S3).
        $protection_02 = "delete_bucket_encryption" ascii wide
        // s3:PutBucketEncryption: This operation configures default encryption and Amazon S3 Bucket Keys for an existing bucket.
        $protection_03 = "put-bucket-encryption" ascii wide
        // s3:PutBucketLifecycle: This operation is not supported for directory buckets.
        $protection_04 = "put-bucket-lifecycle" ascii wide
        // s3:PutBucketLifecycleConfiguration: Creates a new lifecycle configuration for the bucket or replaces an existing lifecycle configuration.
        $protection_05 = "put-bucket-lifecycle-configuration" ascii wide
        // s3:PutBucketVersioning: This operation is not supported for directory buckets.
        $protection_06 = "put-bucket-versioning" ascii wide
        // s3:PutBucketEncryption: This operation configures default encryption and Amazon S3 Bucket Keys for an existing bucket.
        $protection_07 = "put_bucket_encryption" ascii wide
        // s3:PutBucketLifecycle: This operation is not supported for directory buckets.
        $protection_08 = "put_bucket_lifecycle" ascii wide
        // s3:PutBucketLifecycleConfiguration: Creates a new lifecycle configuration for the bucket or replaces an existing lifecycle configuration.
        $protection_09 = "put_bucket_lifecycle_configuration" ascii wide
        // s3:PutBucketVersioning: This operation is not supported for directory buckets.
        $protection_10 = "put_bucket_versioning" ascii wide
        // s3:DeleteObjects: This operation enables you to delete multiple objects from a bucket using a single HTTP request.
        $batch_delete_01 = "delete-objects" ascii wide
        // s3:DeleteObjects: This operation enables you to delete multiple objects from a bucket using a single HTTP request.
        $batch_delete_02 = "delete_objects" ascii wide
    condition:
        any of ($protection_*) and any of ($batch_delete_*)
}
