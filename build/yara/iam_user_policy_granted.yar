rule iam_user_policy_granted
{
    meta:
        id = "a908497a-c8c3-4129-af7d-96b4770bdbb5"
        title = "IAM User Or Group Policy Granted"
        description = "A principal attaches or writes a policy on a user or a group, or adds a user to a group. This is how a backdoor user gets administrator rights (for example AdministratorAccess)."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.persistence, attack.privilege-escalation, attack.t1098.003"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-create-admin-user/"
        reference = "https://hackingthe.cloud/aws/exploitation/iam_privilege_escalation/"
        reference = "https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // iam:AddUserToGroup: Adds the specified user to the specified group.
        $grant_01 = "add-user-to-group" ascii wide
        // iam:AddUserToGroup: Adds the specified user to the specified group.
        $grant_02 = "add_user_to_group" ascii wide
        // iam:AttachGroupPolicy: Attaches the specified managed policy to the specified IAM group.
        $grant_03 = "attach-group-policy" ascii wide
        // iam:AttachUserPolicy: Attaches the specified managed policy to the specified user.
        $grant_04 = "attach-user-policy" ascii wide
        // iam:AttachGroupPolicy: Attaches the specified managed policy to the specified IAM group.
        $grant_05 = "attach_group_policy" ascii wide
        // iam:AttachUserPolicy: Attaches the specified managed policy to the specified user.
        $grant_06 = "attach_user_policy" ascii wide
        // iam:PutGroupPolicy: Adds or updates an inline policy document that is embedded in the specified IAM group.
        $grant_07 = "put-group-policy" ascii wide
        // iam:PutUserPolicy: Adds or updates an inline policy document that is embedded in the specified IAM user.
        $grant_08 = "put-user-policy" ascii wide
        // iam:PutGroupPolicy: Adds or updates an inline policy document that is embedded in the specified IAM group.
        $grant_09 = "put_group_policy" ascii wide
        // iam:PutUserPolicy: Adds or updates an inline policy document that is embedded in the specified IAM user.
        $grant_10 = "put_user_policy" ascii wide
    condition:
        any of ($grant_*)
}
