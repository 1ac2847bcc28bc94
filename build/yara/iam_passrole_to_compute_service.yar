rule iam_passrole_to_compute_service
{
    meta:
        id = "ba6b16a1-b41d-40d0-993f-f83ededc5539"
        title = "IAM Role Prepared and Passed to a Compute Service"
        description = "One principal creates or empowers an IAM role and, within an hour, creates a Lambda function, Glue job or development endpoint, CloudFormation stack, or EC2 instance (or instance profile association). These consuming APIs are where iam:PassRole is exercised, which is not an API call of its own: the new workload runs with the role and its permissions."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.privilege-escalation, attack.persistence, attack.t1098.003"
        reference = "https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/"
        reference = "https://hackingthe.cloud/aws/exploitation/iam_privilege_escalation/"
        reference = "https://bishopfox.com/blog/privilege-escalation-in-aws"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // iam:AttachRolePolicy: Attaches the specified managed policy to the specified IAM role.
        $role_01 = "attach-role-policy" ascii wide
        // iam:AttachRolePolicy: Attaches the specified managed policy to the specified IAM role.
        $role_02 = "attach_role_policy" ascii wide
        // iam:CreateRole: Creates a new role for your Amazon Web Services account.
        $role_03 = "create-role" ascii wide
        // iam:CreateRole: Creates a new role for your Amazon Web Services account.
        $role_04 = "create_role" ascii wide
        // iam:PutRolePolicy: Adds or updates an inline policy document that is embedded in the specified IAM role.
        $role_05 = "put-role-policy" ascii wide
        // iam:PutRolePolicy: Adds or updates an inline policy document that is embedded in the specified IAM role.
        $role_06 = "put_role_policy" ascii wide
        // iam:UpdateAssumeRolePolicy: Updates the policy that grants an IAM entity permission to assume a role.
        $role_07 = "update-assume-role-policy" ascii wide
        // iam:UpdateAssumeRolePolicy: Updates the policy that grants an IAM entity permission to assume a role.
        $role_08 = "update_assume_role_policy" ascii wide
        // ec2:AssociateIamInstanceProfile: Associates an IAM instance profile with a running or stopped instance.
        $consumer_01 = "associate-iam-instance-profile" ascii wide
        // ec2:AssociateIamInstanceProfile: Associates an IAM instance profile with a running or stopped instance.
        $consumer_02 = "associate_iam_instance_profile" ascii wide
        // glue:CreateDevEndpoint: Creates a new development endpoint.
        $consumer_03 = "create-dev-endpoint" ascii wide
        // lambda:CreateFunction: Creates a Lambda Event Function.
        $consumer_04 = "create-function" ascii wide
        // glue:CreateJob: Creates a new job definition.
        $consumer_05 = "create-job" ascii wide
        // cloudformation:CreateStack: Creates a stack as specified in the template.
        $consumer_06 = "create-stack" ascii wide
        // glue:CreateDevEndpoint: Creates a new development endpoint.
        $consumer_07 = "create_dev_endpoint" ascii wide
        // lambda:CreateFunction: Creates a Lambda Event Function.
        $consumer_08 = "create_function" ascii wide
        // glue:CreateJob: Creates a new job definition.
        $consumer_09 = "create_job" ascii wide
        // cloudformation:CreateStack: Creates a stack as specified in the template.
        $consumer_10 = "create_stack" ascii wide
        // ec2:RunInstances: Launches the specified number of instances using an AMI for which you have permissions.
        $consumer_11 = "run-instances" ascii wide
        // ec2:RunInstances: Launches the specified number of instances using an AMI for which you have permissions.
        $consumer_12 = "run_instances" ascii wide
    condition:
        any of ($role_*) and any of ($consumer_*)
}
