{{ config(**audit_rule_config()) }}
{#- L01 台区高损: a computable area whose loss rate is above loss_rate_high_above
    (marts.area_daily_loss already applies the setting: loss_status 'high'). -#}
{{ loss_band_findings('L01', 'high', '>', '高损阈值', 'loss_rate_high_above') }}
