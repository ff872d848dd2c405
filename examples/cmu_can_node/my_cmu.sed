# Turns the manifest `obsa manifest init cmu_can --cells 16 --temperature-sensors 8`
# scaffolds into the one of docs/vendor-guide.md section 12:  sed -i -f my_cmu.sed my_cmu.yaml
#
# The module: who you are.
s/^\(  vendor:\) "Your company"/\1 "Example Vendor"/
s/^\(  name:\) "Your BMS module"/\1 "My CMU"/
#
# The node is a Python class (my_cmu.py beside the manifest), not a board: the bench hosts
# it in a child process on buses held in its memory, which the manifest calls virtual.
s/^\(    can_stack:\) device .*$/\1 my_cmu:MyCmu/
s/^\(      internal_can:\) {interface: socketcan, channel: can0,/\1 {interface: virtual, channel: my-cmu-internal,/
