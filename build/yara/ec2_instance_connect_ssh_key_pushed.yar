rule ec2_instance_connect_ssh_key_pushed
{
    meta:
        id = "4e250864-f4a3-41fc-976e-98c993adba64"
        title = "EC2 Instance Connect SSH Key Pushed"
        description = "A principal pushes a temporary SSH public key to an instance, or to its serial console, through EC2 Instance Connect, and can then log in with the matching private key."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.lateral-movement, attack.t1021.007"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.lateral-movement.ec2-instance-connect/"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.lateral-movement.ec2-serial-console-send-ssh-public-key/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // ec2-instance-connect:SendSerialConsoleSSHPublicKey: Pushes an SSH public key to the specified EC2 instance.
        $ssh_key_01 = "send-serial-console-ssh-public-key" ascii wide
        // ec2-instance-connect:SendSSHPublicKey: Pushes an SSH public key to the specified EC2 instance for use by the specified user.
        $ssh_key_02 = "send-ssh-public-key" ascii wide
        // ec2-instance-connect:SendSerialConsoleSSHPublicKey: Pushes an SSH public key to the specified EC2 instance.
        $ssh_key_03 = "send_serial_console_ssh_public_key" ascii wide
        // ec2-instance-connect:SendSSHPublicKey: Pushes an SSH public key to the specified EC2 instance for use by the specified user.
        $ssh_key_04 = "send_ssh_public_key" ascii wide
    condition:
        any of ($ssh_key_*)
}
