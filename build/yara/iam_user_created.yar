rule iam_user_created
{
    meta:
        id = "1036c992-90e0-4d94-b55f-8f2498668084"
        title = "IAM User Created"
        description = "A principal creates an IAM user. Attackers add their own users to keep access that survives the rotation of the credentials they stole."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "low"
        tags = "attack.persistence, attack.t1136.003"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-create-admin-user/"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-create-user-login-profile/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // iam:CreateUser: Creates a new IAM user for your Amazon Web Services account.
        $new_user_01 = "create-user" ascii wide
        // iam:CreateUser: Creates a new IAM user for your Amazon Web Services account.
        $new_user_02 = "create_user" ascii wide
    condition:
        any of ($new_user_*)
}
