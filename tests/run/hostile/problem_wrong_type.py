problem = "heat1d"
