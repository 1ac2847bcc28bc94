rule iam_mfa_device_registered
{
    meta:
        id = "c868e3b7-2e2c-4e39-a8b1-67045dab6a9d"
        title = "IAM MFA Device Created Or Enabled"
        description = "A principal creates a virtual MFA device, enables an MFA device for a user or resynchronises one. An attacker who registers their own device on a user keeps console access and can pass MFA conditions."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.persistence, attack.privilege-escalation, attack.t1098.005"
        reference = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_enable_virtual.html"
        reference = "https://permiso.io/blog/lucr-3-scattered-spider-getting-saas-y-in-the-cloud"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // iam:CreateVirtualMFADevice: Creates a new virtual MFA device for the Amazon Web Services account.
        $mfa_01 = "create-virtual-mfa-device" ascii wide
        // iam:CreateVirtualMFADevice: Creates a new virtual MFA device for the Amazon Web Services account.
        $mfa_02 = "create_virtual_mfa_device" ascii wide
        // iam:EnableMFADevice: Enables the specified MFA device and associates it with the specified IAM user.
        $mfa_03 = "enable-mfa-device" ascii wide
        // iam:EnableMFADevice: Enables the specified MFA device and associates it with the specified IAM user.
        $mfa_04 = "enable_mfa_device" ascii wide
        // iam:ResyncMFADevice: Synchronizes the specified MFA device with its IAM resource object on the Amazon Web Services servers.
        $mfa_05 = "resync-mfa-device" ascii wide
        // iam:ResyncMFADevice: Synchronizes the specified MFA device with its IAM resource object on the Amazon Web Services servers.
        $mfa_06 = "resync_mfa_device" ascii wide
    condition:
        any of ($mfa_*)
}
