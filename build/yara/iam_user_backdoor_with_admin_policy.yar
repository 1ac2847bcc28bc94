rule iam_user_backdoor_with_admin_policy
{
    meta:
        id = "7f1c2a9e-5b1e-4d8e-9a0b-2c6d1e3f4a5b"
        title = "IAM User Backdoor With Policy Attachment"
        description = "One principal creates login material for a user and attaches or writes a policy within an hour, the sequence of tools that plant an administrator backdoor user."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "high"
        tags = "attack.persistence, attack.privilege-escalation, attack.t1098.001, attack.t1098.003"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-create-admin-user/"
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
        // iam:AttachGroupPolicy: Attaches the specified managed policy to the specified IAM group.
        $policy_01 = "attach-group-policy" ascii wide
        // iam:AttachUserPolicy: Attaches the specified managed policy to the specified user.
        $policy_02 = "attach-user-policy" ascii wide
        // iam:AttachGroupPolicy: Attaches the specified managed policy to the specified IAM group.
        $policy_03 = "attach_group_policy" ascii wide
        // iam:AttachUserPolicy: Attaches the specified managed policy to the specified user.
        $policy_04 = "attach_user_policy" ascii wide
        // iam:PutGroupPolicy: Adds or updates an inline policy document that is embedded in the specified IAM group.
        $policy_05 = "put-group-policy" ascii wide
        // iam:PutUserPolicy: Adds or updates an inline policy document that is embedded in the specified IAM user.
        $policy_06 = "put-user-policy" ascii wide
        // iam:PutGroupPolicy: Adds or updates an inline policy document that is embedded in the specified IAM group.
        $policy_07 = "put_group_policy" ascii wide
        // iam:PutUserPolicy: Adds or updates an inline policy document that is embedded in the specified IAM user.
        $policy_08 = "put_user_policy" ascii wide
    condition:
        any of ($creds_*) and any of ($policy_*)
}
