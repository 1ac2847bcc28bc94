rule cloudtrail_event_selectors_changed
{
    meta:
        id = "46f48224-433d-4557-9696-b2afd33c28c1"
        title = "CloudTrail Event Or Insight Selectors Changed"
        description = "A principal replaces the event selectors or insight selectors of a trail. Selectors that exclude management events, or read or write events, silently reduce what the trail records while it still shows as logging."
        author = "capiche-build"
        date = "2026-12-04"
        status = "experimental"
        level = "medium"
        tags = "attack.defense-evasion, attack.t1562.008"
        reference = "https://stratus-red-team.cloud/attack-techniques/AWS/aws.defense-evasion.cloudtrail-event-selectors/"
        catalog = "botocore 1.44.8 / awscli 1.46.3"
    strings:
        // cloudtrail:PutEventSelectors: Configures event selectors (also referred to as basic event selectors) or advanced event selectors for your trail.
        $selectors_01 = "put-event-selectors" ascii wide
        // cloudtrail:PutInsightSelectors: Lets you enable Insights event logging on specific event categories by specifying the Insights selectors that you want to enable on an existing trail or event data store.
        $selectors_02 = "put-insight-selectors" ascii wide
        // cloudtrail:PutEventSelectors: Configures event selectors (also referred to as basic event selectors) or advanced event selectors for your trail.
        $selectors_03 = "put_event_selectors" ascii wide
        // cloudtrail:PutInsightSelectors: Lets you enable Insights event logging on specific event categories by specifying the Insights selectors that you want to enable on an existing trail or event data store.
        $selectors_04 = "put_insight_selectors" ascii wide
    condition:
        any of ($selectors_*)
}
