{{ config(materialized='table') }}
{%- set rules = [] -%}
{%- for node in graph.nodes.values() if node.resource_type == 'model' and 'audit_rule' in node.tags -%}
  {%- do rules.append(node.name) -%}
{%- endfor %}
-- n={{ rules | length }} execute={{ execute }}
{% for r in rules %}select x from {{ ref(r) }} {% if not loop.last %}union all{% endif %}
{% endfor %}
{% if rules | length == 0 %}select 0 as x{% endif %}
