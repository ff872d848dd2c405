# Turns the manifest `obsa manifest init` scaffolds for the four profiles (16 LFP cells)
# into the one of docs/vendor-guide.md section 10:  sed -i -f my_bms.sed my_bms.yaml
#
# The module: who you are.
s/^\(  vendor:\) "Your company"/\1 "Example Vendor"/
s/^\(  name:\) "Your BMS module"/\1 "My BMS"/
#
# The adapter: every component borrowed from the reference implementation, but the
# balancing, which is yours (my_balancing.py beside the manifest).
s/my_bms\.\(cell_monitor\|current_sensor\|isolation_monitor\|contactor_driver\):/reference_impl.hal.\1:/
s/my_bms\.safety_supervisor:/reference_impl.functions.safety:/
s/my_bms\.contactor_manager:/reference_impl.functions.contactors:/
s/my_bms\.so\([chp]\)_estimator:/reference_impl.functions.so\1:/
s/my_bms\.thermal_manager:/reference_impl.functions.thermal:/
s/my_bms\.charge_control:/reference_impl.functions.charging:/
s/my_bms\.diagnostics:/reference_impl.services.diagnostics:/
s/my_bms\.\(data_logger\|hmi_api\):/reference_impl.connectivity.\1:/
s/my_bms\.balancing:Balancing/my_balancing:MyBalancing/
#
# No HMI service over HTTP: the HMI API is the component the bench steps, so the feature
# hmi_http is not claimed and its section goes.
/^  - hmi_http$/d
/^# Where the bench reaches your HMI API over HTTP/,/^  startup_timeout_s:/d
#
# The balancing as an LFP pack needs it: a 20 mV window (the flat LFP curve hides a charge
# difference inside the spec's 200 mV) and none above 50 degC (`--chemistry lfp` already
# moved the floor to 3.2 V, the bottom of the plateau, with every other cell voltage).
s/^\(    balancing_threshold_V:\) 0.2 \(.*\)spec default$/\1 0.02\2spec default 0.2; yours/
s/^\(    balancing_hysteresis_V:\) 0.2 \(.*\)spec default$/\1 0.01\2spec default 0.2; yours/
s/^\(    balancing_max_temperature_degC:\) 70.0\(.*\)spec default$/\1 50.0\2spec default 70.0; yours/
