rule iam_role_policy_granted
{
    meta:
        id = "0b9d4e71-2c35-4f8a-a6e1-93d5c7b2f048"
        title = "IAM Role Policy Granted Outside Teardown"
        description = "A principal attaches or writes an IAM role policy. In code, scripts that also detach or delete policies (teardown and rotation tooling) are left out; in logs, the detach and delete calls of the same API family are left out, so only grants are reported."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.persistence, attack.privilege-escalation, attack.t1098.003"
        reference = "https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // iam:AttachRolePolicy: Attaches the specified managed policy to the specified IAM role.
        $role_policy_01 = "attach-role-policy" ascii wide
        // iam:AttachRolePolicy: Attaches the specified managed policy to the specified IAM role.
        $role_policy_02 = "attach_role_policy" ascii wide
        // iam:PutRolePolicy: Adds or updates an inline policy document that is embedded in the specified IAM role.
        $role_policy_03 = "put-role-policy" ascii wide
        // iam:PutRolePolicy: Adds or updates an inline policy document that is embedded in the specified IAM role.
        $role_policy_04 = "put_role_policy" ascii wide
        // iam:DeleteRolePolicy: Deletes the specified inline policy that is embedded in the specified IAM role. (in several groups)
        $shared_01 = "delete-role-policy" ascii wide
        // iam:DeleteRolePolicy: Deletes the specified inline policy that is embedded in the specified IAM role. (in several groups)
        $shared_02 = "delete_role_policy" ascii wide
        // iam:DetachRolePolicy: Removes the specified managed policy from the specified role. (in several groups)
        $shared_03 = "detach-role-policy" ascii wide
        // iam:DetachRolePolicy: Removes the specified managed policy from the specified role. (in several groups)
        $shared_04 = "detach_role_policy" ascii wide
    condition:
        any of ($role_policy_*, $shared_01, $shared_02, $shared_03, $shared_04) and not any of ($shared_01, $shared_02, $shared_03, $shared_04)
}
