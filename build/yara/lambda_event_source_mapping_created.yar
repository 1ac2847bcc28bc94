rule lambda_event_source_mapping_created
{
    meta:
        id = "52f635b5-da58-4ee2-8e71-53a0ec313116"
        title = "Lambda Event Source Mapping Created"
        description = "A principal connects a queue, stream or table to a Lambda function with an event source mapping. An attacker can attach a function to a data stream to copy records or to be triggered repeatedly."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "low"
        tags = "attack.persistence, attack.execution, attack.t1648"
        reference = "https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // lambda:CreateEventSourceMapping: Creates a mapping between an event source and an Lambda Event Function.
        $mapping_01 = "create-event-source-mapping" ascii wide
        // lambda:CreateEventSourceMapping: Creates a mapping between an event source and an Lambda Event Function.
        $mapping_02 = "create_event_source_mapping" ascii wide
    condition:
        any of ($mapping_*)
}
