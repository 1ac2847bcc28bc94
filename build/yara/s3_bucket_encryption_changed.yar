rule s3_bucket_encryption_changed
{
    meta:
        id = "99583184-256c-47ea-8dd5-62f051708749"
        title = "S3 Bucket Default Encryption Changed"
        description = "A principal replaces or removes the default encryption of a bucket. Ransomware switches buckets to a key it controls or removes the owner key so that new objects are unreadable to the owner."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.impact, attack.t1486"
        reference = "https://rhinosecuritylabs.com/aws/s3-ransomware-part-1-attack-vector/"
        reference = "https://www.halcyon.ai/blog/abusing-aws-native-services-ransomware-encrypting-s3-buckets-with-sse-c"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // s3:DeleteBucketEncryption: This implementation of the DELETE action resets the default encryption for the bucket as server-side encryption with Amazon S3 managed keys (SSE-S3).
        $encryption_01 = "delete-bucket-encryption" ascii wide
        // s3:DeleteBucketEncryption: This implementation of the DELETE action resets the default encryption for the bucket as server-side encryption with Amazon S3 managed keys (SSE-S3).
        $encryption_02 = "delete_bucket_encryption" ascii wide
        // s3:PutBucketEncryption: This operation configures default encryption and Amazon S3 Bucket Keys for an existing bucket.
        $encryption_03 = "put-bucket-encryption" ascii wide
        // s3:PutBucketEncryption: This operation configures default encryption and Amazon S3 Bucket Keys for an existing bucket.
        $encryption_04 = "put_bucket_encryption" ascii wide
    condition:
        any of ($encryption_*)
}
