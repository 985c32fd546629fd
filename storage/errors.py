class StorageError(Exception):
    """A storage problem a user can cause (unknown id, bad database file)."""


class NotFoundError(StorageError):
    pass
