rule iam_role_trust_policy_modified
{
    meta:
        id = "221273a9-b8e3-401e-b8f2-ca71541f75a8"
        title = "IAM Role Trust Policy Modified"
        description = "A principal rewrites the trust (assume-role) policy of a role. Adding an outside account or a service to the trust policy is a backdoor that lets an attacker assume the role later."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.persistence, attack.privilege-escalation, attack.t1098.003"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-backdoor-role/"
        reference = "https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // iam:UpdateAssumeRolePolicy: Updates the policy that grants an IAM entity permission to assume a role.
        $trust_01 = "update-assume-role-policy" ascii wide
        // iam:UpdateAssumeRolePolicy: Updates the policy that grants an IAM entity permission to assume a role.
        $trust_02 = "update_assume_role_policy" ascii wide
    condition:
        any of ($trust_*)
}
