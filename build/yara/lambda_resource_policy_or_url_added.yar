rule lambda_resource_policy_or_url_added
{
    meta:
        id = "18dddaff-3fbe-434f-ab26-1762e2015548"
        title = "Lambda Invoke Permission Or Function URL Added"
        description = "A principal adds a statement to the resource policy of a Lambda function, or creates a function URL. A statement for principal `*` or an unauthenticated URL turns the function into a backdoor anyone can invoke."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.persistence, attack.execution, attack.t1648"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.lambda-backdoor-function/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // lambda:AddPermission: Grants a principal permission to use a function.
        $exposure_01 = "add-permission" ascii wide
        // lambda:AddPermission: Grants a principal permission to use a function.
        $exposure_02 = "add_permission" ascii wide
        // lambda:CreateFunctionUrlConfig: Creates a Lambda function URL with the specified configuration parameters.
        $exposure_03 = "create-function-url-config" ascii wide
        // lambda:CreateFunctionUrlConfig: Creates a Lambda function URL with the specified configuration parameters.
        $exposure_04 = "create_function_url_config" ascii wide
    condition:
        any of ($exposure_*)
}
