"""The signed-in user's own account: devices, password, activity, deletion."""
