rule identitystore_user_created
{
    meta:
        id = "2457e595-dfe8-47e9-990d-6a0c778edb0d"
        title = "Identity Store User Or Group Membership Created"
        description = "A principal creates a user in the IAM Identity Center identity store or adds a member to a group there. A new identity-store user with an account assignment is a persistent way into every account it is assigned to."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.persistence, attack.privilege-escalation, attack.t1136.003, attack.t1098"
        reference = "https://permiso.io/blog/lucr-3-scattered-spider-getting-saas-y-in-the-cloud"
        reference = "https://docs.aws.amazon.com/singlesignon/latest/userguide/permissionsetsconcept.html"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // header: must also be present
        $header_01 = "identitystore" ascii wide
        // identitystore:CreateGroupMembership: Creates a relationship between a member and a group.
        $identity_01 = "create-group-membership" ascii wide
        // identitystore:CreateUser: Creates a user within the specified identity store.
        $identity_02 = "create-user" ascii wide
        // identitystore:CreateGroupMembership: Creates a relationship between a member and a group.
        $identity_03 = "create_group_membership" ascii wide
        // identitystore:CreateUser: Creates a user within the specified identity store.
        $identity_04 = "create_user" ascii wide
    condition:
        any of ($header_*) and (any of ($identity_*))
}
