print("podgate")
