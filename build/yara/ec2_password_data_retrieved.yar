rule ec2_password_data_retrieved
{
    meta:
        id = "ab03ba69-aa0e-4a2c-93e8-a9a641ee975a"
        title = "EC2 Windows Password Data Retrieved"
        description = "A principal retrieves the encrypted Windows administrator password of an instance. With the key pair it decrypts to a working RDP password; many calls across instances are credential harvesting."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.credential-access, attack.t1552"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.credential-access.ec2-get-password-data/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // ec2:GetPasswordData: Retrieves the encrypted administrator password for a running Windows instance.
        $password_01 = "get-password-data" ascii wide
        // ec2:GetPasswordData: Retrieves the encrypted administrator password for a running Windows instance.
        $password_02 = "get_password_data" ascii wide
    condition:
        any of ($password_*)
}
