COPY config.audit_settings FROM '{dir}/config_audit_settings.csv' (FORMAT 'csv', allow_quoted_nulls false, quote '"', delimiter ',', header 1);
COPY intermediate.int_day_reads_final FROM '{dir}/intermediate_int_day_reads_final.csv' (FORMAT 'csv', allow_quoted_nulls false, quote '"', delimiter ',', header 1);
COPY intermediate.int_meter_energy_daily FROM '{dir}/intermediate_int_meter_energy_daily.csv' (FORMAT 'csv', allow_quoted_nulls false, quote '"', delimiter ',', header 1);
COPY marts.area_daily_loss FROM '{dir}/marts_area_daily_loss.csv' (FORMAT 'csv', allow_quoted_nulls false, quote '"', delimiter ',', header 1);
COPY raw_acquisition.E_EVENT FROM '{dir}/raw_acquisition_e_event.csv' (FORMAT 'csv', allow_quoted_nulls false, quote '"', delimiter ',', header 1);
