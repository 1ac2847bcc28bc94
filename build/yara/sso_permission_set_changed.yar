rule sso_permission_set_changed
{
    meta:
        id = "92fd78b9-af77-40df-9d54-818e78826617"
        title = "IAM Identity Center Permission Set Created Or Granted Policies"
        description = "A principal creates an IAM Identity Center permission set, attaches or writes policies on one, or provisions it to accounts. Attackers with Identity Center access create powerful permission sets to reach every account of an organisation."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.persistence, attack.privilege-escalation, attack.t1098.003"
        reference = "https://permiso.io/blog/lucr-3-scattered-spider-getting-saas-y-in-the-cloud"
        reference = "https://docs.aws.amazon.com/singlesignon/latest/userguide/permissionsetsconcept.html"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // sso-admin:AttachCustomerManagedPolicyReferenceToPermissionSet: Attaches the specified customer managed policy to the specified PermissionSet.
        $permission_set_01 = "attach-customer-managed-policy-reference-to-permission-set" ascii wide
        // sso-admin:AttachManagedPolicyToPermissionSet: Attaches an Amazon Web Services managed policy ARN to a permission set.
        $permission_set_02 = "attach-managed-policy-to-permission-set" ascii wide
        // sso-admin:AttachCustomerManagedPolicyReferenceToPermissionSet: Attaches the specified customer managed policy to the specified PermissionSet.
        $permission_set_03 = "attach_customer_managed_policy_reference_to_permission_set" ascii wide
        // sso-admin:AttachManagedPolicyToPermissionSet: Attaches an Amazon Web Services managed policy ARN to a permission set.
        $permission_set_04 = "attach_managed_policy_to_permission_set" ascii wide
        // sso-admin:CreatePermissionSet: Creates a permission set within a specified IAM Identity Center instance.
        $permission_set_05 = "create-permission-set" ascii wide
        // sso-admin:CreatePermissionSet: Creates a permission set within a specified IAM Identity Center instance.
        $permission_set_06 = "create_permission_set" ascii wide
        // sso-admin:ProvisionPermissionSet: The process by which a specified permission set is provisioned to the specified target.
        $permission_set_07 = "provision-permission-set" ascii wide
        // sso-admin:ProvisionPermissionSet: The process by which a specified permission set is provisioned to the specified target.
        $permission_set_08 = "provision_permission_set" ascii wide
        // sso-admin:PutInlinePolicyToPermissionSet: Attaches an inline policy to a permission set.
        $permission_set_09 = "put-inline-policy-to-permission-set" ascii wide
        // sso-admin:PutPermissionsBoundaryToPermissionSet: Attaches an Amazon Web Services managed or customer managed policy to the specified PermissionSet as a permissions boundary.
        $permission_set_10 = "put-permissions-boundary-to-permission-set" ascii wide
        // sso-admin:PutInlinePolicyToPermissionSet: Attaches an inline policy to a permission set.
        $permission_set_11 = "put_inline_policy_to_permission_set" ascii wide
        // sso-admin:PutPermissionsBoundaryToPermissionSet: Attaches an Amazon Web Services managed or customer managed policy to the specified PermissionSet as a permissions boundary.
        $permission_set_12 = "put_permissions_boundary_to_permission_set" ascii wide
    condition:
        any of ($permission_set_*)
}
