[kernel]
format=1
os=linux
release=ÿþ
