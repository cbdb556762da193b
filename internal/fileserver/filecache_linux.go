package fileserver

// canCache: the local backend tells a file unchanged by its device, inode
// and times, which only Linux gives here (see openFiles).
const canCache = true
