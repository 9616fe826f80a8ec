import shared_library
print(shared_library.VERSION)
