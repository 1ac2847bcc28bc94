rule iam_account_enumeration
{
    meta:
        id = "426370cc-4796-4ca2-b0bd-ed2e946d7681"
        title = "IAM Account-Wide Enumeration"
        description = "A principal downloads the whole IAM configuration with GetAccountAuthorizationDetails, or lists two of users, roles and managed policies within an hour. Attackers map identities and permissions this way right after getting credentials."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.discovery, attack.t1087.004, attack.t1069.003"
        reference = "https://hackingthe.cloud/aws/enumeration/enumerate_principal_permissions_anonymously/"
        reference = "https://rhinosecuritylabs.com/aws/pacu-open-source-aws-exploitation-framework/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // iam:GetAccountAuthorizationDetails: Retrieves information about all IAM users, groups, roles, and policies in your Amazon Web Services account, including their relationships to one another.
        $authz_01 = "get-account-authorization-details" ascii wide
        // iam:GetAccountAuthorizationDetails: Retrieves information about all IAM users, groups, roles, and policies in your Amazon Web Services account, including their relationships to one another.
        $authz_02 = "get_account_authorization_details" ascii wide
        // iam:ListUsers: Lists the IAM users that have the specified path prefix.
        $users_01 = "list-users" ascii wide
        // iam:ListUsers: Lists the IAM users that have the specified path prefix.
        $users_02 = "list_users" ascii wide
        // iam:ListRoles: Lists the IAM roles that have the specified path prefix.
        $roles_01 = "list-roles" ascii wide
        // iam:ListRoles: Lists the IAM roles that have the specified path prefix.
        $roles_02 = "list_roles" ascii wide
        // iam:ListPolicies: Lists all the managed policies that are available in your Amazon Web Services account, including your own customer-defined managed policies and all Amazon Web Services managed policies.
        $policies_01 = "list-policies" ascii wide
        // iam:ListPolicies: Lists all the managed policies that are available in your Amazon Web Services account, including your own customer-defined managed policies and all Amazon Web Services managed policies.
        $policies_02 = "list_policies" ascii wide
    condition:
        any of ($authz_*) or ((any of ($users_*) and any of ($roles_*)) or (any of ($users_*) and any of ($policies_*)) or (any of ($roles_*) and any of ($policies_*)))
}
