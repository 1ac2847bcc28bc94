rule organizations_account_left
{
    meta:
        id = "df4451e4-4e21-4a69-97f5-7f37061306b1"
        title = "Account Left Or Removed From the Organization"
        description = "A principal makes the account leave its AWS Organization, or removes a member account. Outside the organisation the account escapes service control policies and organisation trails."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "high"
        tags = "attack.defense-evasion, attack.t1562.008"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.defense-evasion.organizations-leave/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // organizations:LeaveOrganization: Removes a member account from its parent organization.
        $leave_01 = "leave-organization" ascii wide
        // organizations:LeaveOrganization: Removes a member account from its parent organization.
        $leave_02 = "leave_organization" ascii wide
        // organizations:RemoveAccountFromOrganization: Removes the specified account from the organization.
        $leave_03 = "remove-account-from-organization" ascii wide
        // organizations:RemoveAccountFromOrganization: Removes the specified account from the organization.
        $leave_04 = "remove_account_from_organization" ascii wide
    condition:
        any of ($leave_*)
}
