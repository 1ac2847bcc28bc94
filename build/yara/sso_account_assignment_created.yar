rule sso_account_assignment_created
{
    meta:
        id = "e16c4b17-1719-43a4-9896-97be1a9b41e0"
        title = "IAM Identity Center Account Assignment Created"
        description = "A principal assigns a user or group a permission set on an AWS account through IAM Identity Center, which gives that identity access to the account."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.persistence, attack.privilege-escalation, attack.t1098.003"
        reference = "https://permiso.io/blog/lucr-3-scattered-spider-getting-saas-y-in-the-cloud"
        reference = "https://docs.aws.amazon.com/singlesignon/latest/userguide/permissionsetsconcept.html"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // sso-admin:CreateAccountAssignment: Assigns access to a principal for a specified Amazon Web Services account using a specified permission set.
        $assignment_01 = "create-account-assignment" ascii wide
        // sso-admin:CreateAccountAssignment: Assigns access to a principal for a specified Amazon Web Services account using a specified permission set.
        $assignment_02 = "create_account_assignment" ascii wide
    condition:
        any of ($assignment_*)
}
