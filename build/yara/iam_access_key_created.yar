rule iam_access_key_created
{
    meta:
        id = "3f6c1d2e-8a41-4c7b-9d0e-5b2a7c9e1f30"
        title = "IAM Access Key Or Login Profile Created"
        description = "A principal creates long-lived credentials for an IAM user: an access key or a console password. Attackers do this to keep access after the credentials they stole are rotated."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.persistence, attack.privilege-escalation, attack.t1098.001"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-create-user-login-profile/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // iam:CreateAccessKey: Creates a new Amazon Web Services secret access key and corresponding Amazon Web Services access key ID for the specified user.
        $creds_01 = "create-access-key" ascii wide
        // iam:CreateLoginProfile: Creates a password for the specified IAM user.
        $creds_02 = "create-login-profile" ascii wide
        // iam:CreateAccessKey: Creates a new Amazon Web Services secret access key and corresponding Amazon Web Services access key ID for the specified user.
        $creds_03 = "create_access_key" ascii wide
        // iam:CreateLoginProfile: Creates a password for the specified IAM user.
        $creds_04 = "create_login_profile" ascii wide
        // iam:UpdateLoginProfile: Changes the password or the maximum sign-in session duration for the specified IAM user.
        $creds_05 = "update-login-profile" ascii wide
        // iam:UpdateLoginProfile: Changes the password or the maximum sign-in session duration for the specified IAM user.
        $creds_06 = "update_login_profile" ascii wide
    condition:
        any of ($creds_*)
}
