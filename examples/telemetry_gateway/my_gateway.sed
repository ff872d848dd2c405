# Turns the manifest `obsa manifest init telemetry_gateway` scaffolds into the one of
# docs/vendor-guide.md section 11:  sed -i -f my_gateway.sed my_gateway.yaml
#
# The module: who you are.
s/^\(  vendor:\) "Your company"/\1 "Example Vendor"/
s/^\(  name:\) "Your BMS module"/\1 "My Gateway"/
#
# Five minutes of records at one a second while the uplink is down (a tunnel, a garage).
s/^\(    buffer_capacity_records:\) 10000 \(.*\)no spec default: a placeholder, DECLARE YOURS$/\1 300 \2no spec default; yours/
#
# The service asks for a token.
s/^\(  token:\) null \(.*\)$/\1 my-gateway-token \2/
#
# The adapter: the network link and the telemetry borrowed from the reference
# implementation; the HMI API is yours (my_hmi.py beside the manifest).
s/my_bms\.network_link:/reference_impl.hal.network_link:/
s/my_bms\.telemetry:/reference_impl.connectivity.telemetry:/
s/my_bms\.hmi_api:HmiApi/my_hmi:MyHmi/
