rule iam_policy_version_set_default
{
    meta:
        id = "f4b56ca7-910d-4489-a3d1-99e05236e73c"
        title = "IAM Managed Policy Version Created Or Set as Default"
        description = "A principal creates a new version of a customer managed policy or switches its default version. With iam:CreatePolicyVersion alone, a principal can rewrite a policy attached to itself and grant itself any permission."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.privilege-escalation, attack.persistence, attack.t1098.003"
        reference = "https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/"
        reference = "https://hackingthe.cloud/aws/exploitation/iam_privilege_escalation/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // iam:CreatePolicyVersion: Creates a new version of the specified managed policy.
        $version_01 = "create-policy-version" ascii wide
        // iam:CreatePolicyVersion: Creates a new version of the specified managed policy.
        $version_02 = "create_policy_version" ascii wide
        // iam:SetDefaultPolicyVersion: Sets the specified version of the specified policy as the policy's default (operative) version.
        $version_03 = "set-default-policy-version" ascii wide
        // iam:SetDefaultPolicyVersion: Sets the specified version of the specified policy as the policy's default (operative) version.
        $version_04 = "set_default_policy_version" ascii wide
    condition:
        any of ($version_*)
}
