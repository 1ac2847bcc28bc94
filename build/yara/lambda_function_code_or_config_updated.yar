rule lambda_function_code_or_config_updated
{
    meta:
        id = "c66cb3c0-77ba-4fa5-a6f4-4fcec4d1171b"
        title = "Lambda Function Code Or Configuration Updated"
        description = "A principal replaces the code or changes the configuration (role, layers, environment, handler) of a Lambda function. CloudTrail records these with API-version suffixes (UpdateFunctionCode20150331v2), which the rule matches by prefix."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "low"
        tags = "attack.persistence, attack.execution, attack.t1648"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.lambda-overwrite-code/"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.lambda-layer-extension/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // lambda:UpdateFunctionCode: Updates a Lambda Event Function's code.
        $update_01 = "update-function-code" ascii wide
        // lambda:UpdateFunctionConfiguration: Modifies the version-specific settings of a Lambda Event Function.
        $update_02 = "update-function-configuration" ascii wide
        // lambda:UpdateFunctionCode: Updates a Lambda Event Function's code.
        $update_03 = "update_function_code" ascii wide
        // lambda:UpdateFunctionConfiguration: Modifies the version-specific settings of a Lambda Event Function.
        $update_04 = "update_function_configuration" ascii wide
    condition:
        any of ($update_*)
}
