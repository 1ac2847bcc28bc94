rule s3_bucket_access_opened
{
    meta:
        id = "72942fbc-b6c9-45d0-beec-c45d0ea94f3f"
        title = "S3 Bucket Policy, ACL Or Public Access Block Changed"
        description = "A principal writes a bucket policy or ACL, or removes a bucket or account public access block. Attackers open buckets to their own account or to everyone to take the data out."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.exfiltration, attack.t1537"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.exfiltration.s3-backdoor-bucket-policy/"
        reference = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // s3:DeletePublicAccessBlock: This operation is not supported for directory buckets.; s3control:DeletePublicAccessBlock: This operation is not supported by directory buckets.
        $open_01 = "delete-public-access-block" ascii wide
        // s3:DeletePublicAccessBlock: This operation is not supported for directory buckets.; s3control:DeletePublicAccessBlock: This operation is not supported by directory buckets.
        $open_02 = "delete_public_access_block" ascii wide
        // s3:PutBucketAcl: End of support notice: As of October 1, 2025, Amazon S3 has discontinued support for Email Grantee Access Control Lists (ACLs).
        $open_03 = "put-bucket-acl" ascii wide
        // s3:PutBucketPolicy: Applies an Amazon S3 bucket policy to an Amazon S3 bucket.
        $open_04 = "put-bucket-policy" ascii wide
        // s3:PutBucketAcl: End of support notice: As of October 1, 2025, Amazon S3 has discontinued support for Email Grantee Access Control Lists (ACLs).
        $open_05 = "put_bucket_acl" ascii wide
        // s3:PutBucketPolicy: Applies an Amazon S3 bucket policy to an Amazon S3 bucket.
        $open_06 = "put_bucket_policy" ascii wide
    condition:
        any of ($open_*)
}
