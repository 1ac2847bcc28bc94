rule ssm_parameters_bulk_read
{
    meta:
        id = "9213d4ea-2228-4e21-abdf-133d56bed251"
        title = "SSM Parameters Read in Bulk"
        description = "A principal reads several SSM parameters in one call (GetParameters) or a whole path (GetParametersByPath). Whether SecureString values were decrypted is the WithDecryption request parameter (requestParameters.withDecryption), which the API name does not show."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "low"
        tags = "attack.credential-access, attack.t1555.006"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.credential-access.ssm-retrieve-securestring-parameters/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // ssm:GetParameters: Get information about one or more parameters by specifying multiple parameter names.
        $bulk_read_01 = "get-parameters" ascii wide
        // ssm:GetParametersByPath: Retrieve information about one or more parameters under a specified level in a hierarchy.
        $bulk_read_02 = "get-parameters-by-path" ascii wide
        // ssm:GetParameters: Get information about one or more parameters by specifying multiple parameter names.
        $bulk_read_03 = "get_parameters" ascii wide
        // ssm:GetParametersByPath: Retrieve information about one or more parameters under a specified level in a hierarchy.
        $bulk_read_04 = "get_parameters_by_path" ascii wide
    condition:
        any of ($bulk_read_*)
}
