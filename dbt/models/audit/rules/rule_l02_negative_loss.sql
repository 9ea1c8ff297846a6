{{ config(**audit_rule_config()) }}
{#- L02 台区负损: a computable area whose loss rate is below loss_rate_negative_below
    (marts.area_daily_loss already applies the setting: loss_status 'negative'). -#}
{{ loss_band_findings('L02', 'negative', '<', '负损阈值', 'loss_rate_negative_below') }}
